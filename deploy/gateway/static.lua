-- Serves the gateway's own documents from memory: the aggregated OpenAPI document and
-- Swagger UI (vendored files, so /docs works offline). Loaded once at start.
local home = os.getenv("TOUCHSTONE_GATEWAY_HOME")
local assets = os.getenv("TOUCHSTONE_GATEWAY_ASSETS")
local files = {}

local function load(route, path, content_type)
  local f = assert(io.open(path, "rb"), "cannot read " .. path)
  files[route] = { body = f:read("a"), content_type = content_type }
  f:close()
end

load("/openapi.json", home .. "/openapi.json", "application/json")
load("/docs", assets .. "/index.html", "text/html; charset=utf-8")
files["/docs/"] = files["/docs"]
load("/docs/swagger-ui.css", assets .. "/swagger-ui.css", "text/css; charset=utf-8")
load("/docs/swagger-ui-bundle.js", assets .. "/swagger-ui-bundle.js", "text/javascript; charset=utf-8")
load("/docs/init.js", assets .. "/init.js", "text/javascript; charset=utf-8")

core.register_service("static", "http", function(applet)
  local file = files[applet.path]
  local body = file and file.body or ""
  applet:set_status(file and 200 or 404)
  applet:add_header("content-type", file and file.content_type or "application/problem+json")
  applet:add_header("content-length", tostring(#body))
  applet:add_header("cache-control", "public, max-age=300")
  applet:start_response()
  if applet.method ~= "HEAD" then
    applet:send(body)
  end
end)
