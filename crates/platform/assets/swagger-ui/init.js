// Swagger UI over this origin's /openapi.json; served from our own files, so it works offline.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", deepLinking: true });
