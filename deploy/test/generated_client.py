"""One write and one read per service, made with the Python clients openapi-python-client
generated from the services' OpenAPI documents (deploy/test/generated_client.sh), through the
gateway. Each call must answer its documented success status with a body the client parsed
into its model, carrying what was sent.

    PYTHONPATH=<generated clients> CLIENT_KEY=<key> python generated_client.py GATEWAY_URL
"""

import datetime
import os
import sys
import uuid


def main(base: str, key: str) -> None:
    tag = uuid.uuid4().hex[:12]
    failures: list[str] = []

    def check(what: str, ok: bool, response) -> None:
        status = getattr(response, "status_code", None)
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {int(status) if status else status}")
        if not ok:
            failures.append(f"{what}: {status} {getattr(response, 'content', b'')[:500]!r}")

    # --- leads: create a lead, read it back ------------------------------------------------
    import leads_client
    from leads_client.api.leads import create_lead, get_lead
    from leads_client.models import LeadInput, LeadResponse

    leads = leads_client.AuthenticatedClient(base_url=base, token=key)
    email = f"client-{tag}@example.com"
    r = create_lead.sync_detailed(
        client=leads,
        body=LeadInput.from_dict({"email": email, "source": "webinar", "first_name": "Ada"}),
        idempotency_key=f"client-{tag}",
    )
    created = r.parsed
    check("leads: POST /v1/leads", r.status_code == 201 and isinstance(created, LeadResponse)
          and created.email == email, r)
    if isinstance(created, LeadResponse):
        g = get_lead.sync_detailed(created.id, client=leads)
        check("leads: GET /v1/leads/{id}", g.status_code == 200
              and isinstance(g.parsed, LeadResponse) and g.parsed.id == created.id
              and g.parsed.first_name == "Ada", g)

    # --- funnel: create a funnel, find it in the paged list ---------------------------------
    import funnel_client
    from funnel_client.api.funnels import create_funnel, get_funnel
    from funnel_client.models import FunnelInput, FunnelResponse

    funnel = funnel_client.AuthenticatedClient(base_url=base, token=key)
    name = f"client-{tag}"
    r = create_funnel.sync_detailed(
        client=funnel,
        body=FunnelInput.from_dict({"name": name, "stages": [
            {"name": "trial"}, {"name": "paid"}]}),
        idempotency_key=f"client-{tag}",
    )
    check("funnel: POST /v1/funnels", r.status_code == 201
          and isinstance(r.parsed, FunnelResponse) and r.parsed.name == name, r)
    if isinstance(r.parsed, FunnelResponse):
        g = get_funnel.sync_detailed(r.parsed.id, client=funnel)
        check("funnel: GET /v1/funnels/{id}", g.status_code == 200
              and isinstance(g.parsed, FunnelResponse)
              and [s.name for s in g.parsed.stages] == ["trial", "paid"], g)

    # --- touchpoints: record a touch, search for it -----------------------------------------
    import touchpoints_client
    from touchpoints_client.api.touchpoints import list_touchpoints, post_touchpoints
    from touchpoints_client.models import TouchpointInput, TouchpointPage

    touchpoints = touchpoints_client.AuthenticatedClient(base_url=base, token=key)
    anonymous = f"anon-{tag}"
    at = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.timezone.utc)
    r = post_touchpoints.sync_detailed(
        client=touchpoints,
        body=TouchpointInput.from_dict({"occurred_at": at.isoformat(), "channel": "email",
                                        "type": "click", "anonymous_id": anonymous}),
        idempotency_key=f"client-{tag}",
    )
    check("touchpoints: POST /v1/touchpoints", r.status_code == 201 and r.parsed is not None
          and getattr(r.parsed, "anonymous_id", None) == anonymous, r)
    g = list_touchpoints.sync_detailed(client=touchpoints, anonymous_id=anonymous, limit=10)
    check("touchpoints: GET /v1/touchpoints?anonymous_id=", g.status_code == 200
          and isinstance(g.parsed, TouchpointPage) and len(g.parsed.items) == 1
          and g.parsed.items[0].occurred_at == at, g)

    # --- breakeven: create a product, read it back -------------------------------------------
    import breakeven_client
    from breakeven_client.api.records import create_product, get_product
    from breakeven_client.models import ProductInput, ProductResponse

    breakeven = breakeven_client.AuthenticatedClient(base_url=base, token=key)
    r = create_product.sync_detailed(
        client=breakeven,
        body=ProductInput.from_dict({"name": f"client-{tag}", "price": "120.00",
                                     "variable_cost": "45.50", "currency": "EUR"}),
        idempotency_key=f"client-{tag}",
    )
    check("breakeven: POST /v1/products", r.status_code == 201
          and isinstance(r.parsed, ProductResponse) and r.parsed.name == f"client-{tag}", r)
    if isinstance(r.parsed, ProductResponse):
        g = get_product.sync_detailed(r.parsed.id, client=breakeven)
        check("breakeven: GET /v1/products/{id}", g.status_code == 200
              and isinstance(g.parsed, ProductResponse) and g.parsed.id == r.parsed.id, g)

    # --- the gateway's aggregated document makes one client for all four ----------------------
    import gateway_client
    from gateway_client.api.leads import leads_list_leads
    from gateway_client.models.leads_list_leads_sort import LeadsListLeadsSort

    everything = gateway_client.AuthenticatedClient(base_url=base, token=key)
    g = leads_list_leads.sync_detailed(
        client=everything, limit=1, sort=LeadsListLeadsSort("-created_at"))
    check("gateway document: GET /v1/leads?limit=1&sort=-created_at", g.status_code == 200
          and g.parsed is not None and [i.email for i in g.parsed.items] == [email], g)

    if failures:
        sys.exit("generated clients failed:\n" + "\n".join(failures))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), os.environ["CLIENT_KEY"])
