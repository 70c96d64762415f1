//! What the demo company sells and spends on: products, fixed costs, campaigns and
//! affiliates. The campaign ids are the ones leads, touchpoints and deals carry.

/// A product as `POST /v1/products` takes it; `key` is the demo's own handle for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductSpec {
    pub key: &'static str,
    pub name: &'static str,
    /// Whole euro cents.
    pub price_cents: i64,
    pub variable_cost_cents: i64,
}

pub const PRODUCTS: [ProductSpec; 4] = [
    ProductSpec {
        key: "starter",
        name: "Touchstone Starter (annual)",
        price_cents: 480_000,
        variable_cost_cents: 96_000,
    },
    ProductSpec {
        key: "growth",
        name: "Touchstone Growth (annual)",
        price_cents: 1_440_000,
        variable_cost_cents: 360_000,
    },
    ProductSpec {
        key: "enterprise",
        name: "Touchstone Enterprise (annual)",
        price_cents: 4_800_000,
        variable_cost_cents: 1_440_000,
    },
    ProductSpec {
        key: "onboarding",
        name: "Onboarding package",
        price_cents: 350_000,
        variable_cost_cents: 210_000,
    },
];

pub fn product(key: &str) -> &'static ProductSpec {
    PRODUCTS
        .iter()
        .find(|p| p.key == key)
        .expect("a demo product key")
}

/// (name, amount, period) of `POST /v1/fixed-costs`, in EUR.
pub const FIXED_COSTS: [(&str, &str, &str); 4] = [
    ("Salaries", "85000.00", "month"),
    ("Agency retainer", "6000.00", "month"),
    ("Office rent", "21000.00", "quarter"),
    ("Tooling and infrastructure", "48000.00", "year"),
];

pub const CURRENCY: &str = "EUR";

/// A campaign: where its paid touches run and how its spend relates to what it sells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CampaignSpec {
    pub id: &'static str,
    pub name: &'static str,
    /// The paid channel its impressions and clicks run on.
    pub channel: &'static str,
    /// Spend as a multiple of the contribution its planned won deals bring: below 1 the
    /// campaign crosses break-even during the demo, above 1 it does not.
    pub spend_to_contribution: f64,
    /// Spend as a share of budget (0.5 or more with ROAS under break-even is "at risk").
    pub budget_share: f64,
    /// Unit shares of products sold (product key, share).
    pub mix: &'static [(&'static str, &'static str)],
}

/// In the order of `CAMPAIGNS` in the lead generator. Brand search pays for itself well
/// before its budget is gone; generic search has spent most of its budget at a ROAS
/// under break-even (at risk); the others sit in between.
///
/// Revenue reaches a campaign through attribution, which the demo cannot predict, so a
/// campaign that crosses starts with a little spend (it crosses as its deals are won) and
/// is topped up afterwards to `spend_to_contribution` of what it was actually credited. A
/// campaign that does not cross is priced on all its leads' won deals, an upper bound of
/// its attributed revenue.
pub const CAMPAIGN_SPECS: [CampaignSpec; 6] = [
    CampaignSpec {
        id: "cmp-search-brand",
        name: "Search: brand terms",
        channel: "paid_search",
        spend_to_contribution: 0.55,
        budget_share: 0.7,
        mix: &[("starter", "0.5"), ("growth", "0.4"), ("enterprise", "0.1")],
    },
    CampaignSpec {
        id: "cmp-search-generic",
        name: "Search: generic terms",
        channel: "paid_search",
        spend_to_contribution: 1.8,
        budget_share: 0.8,
        mix: &[("starter", "0.7"), ("growth", "0.3")],
    },
    CampaignSpec {
        id: "cmp-social-launch",
        name: "Paid social: product launch",
        channel: "paid_social",
        spend_to_contribution: 0.85,
        budget_share: 0.6,
        mix: &[("starter", "0.8"), ("onboarding", "0.2")],
    },
    CampaignSpec {
        id: "cmp-display-retarget",
        name: "Display: retargeting",
        channel: "display",
        spend_to_contribution: 1.3,
        budget_share: 0.4,
        mix: &[("starter", "0.6"), ("growth", "0.4")],
    },
    CampaignSpec {
        id: "cmp-webinar-q4",
        name: "Webinar series Q4 (paid social promotion)",
        channel: "paid_social",
        spend_to_contribution: 0.7,
        budget_share: 0.9,
        mix: &[
            ("growth", "0.6"),
            ("enterprise", "0.2"),
            ("onboarding", "0.2"),
        ],
    },
    CampaignSpec {
        id: "cmp-ebook-benchmarks",
        name: "E-book: marketing benchmarks (display promotion)",
        channel: "display",
        spend_to_contribution: 1.1,
        budget_share: 0.3,
        mix: &[("starter", "0.5"), ("growth", "0.5")],
    },
];

/// Spend of a campaign with no planned revenue, in EUR cents.
pub const SPEND_FLOOR_CENTS: i64 = 250_000;

pub fn campaign(id: &str) -> Option<&'static CampaignSpec> {
    CAMPAIGN_SPECS.iter().find(|c| c.id == id)
}

impl CampaignSpec {
    /// Whether the campaign's story is to cross break-even during the demo.
    pub fn crosses(&self) -> bool {
        self.spend_to_contribution < 1.0
    }

    /// The mix's weighted contribution-margin ratio, as the break-even service computes it
    /// (unit shares): sum of share × margin over sum of share × price.
    pub fn margin_ratio(&self) -> f64 {
        let (mut margin, mut price) = (0.0, 0.0);
        for (key, share) in self.mix {
            let p = product(key);
            let s: f64 = share.parse().expect("a decimal share");
            margin += s * (p.price_cents - p.variable_cost_cents) as f64;
            price += s * p.price_cents as f64;
        }
        margin / price
    }
}

/// (affiliate id, body of `PUT /v1/affiliates/{id}`).
pub fn affiliates() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    vec![
        (
            "aff-reviewhub",
            json!({"name": "ReviewHub", "model": "flat_cpa", "amount": "150.00",
                   "currency": CURRENCY, "cookie_window_days": 30}),
        ),
        (
            "aff-saasradar",
            json!({"name": "SaaS Radar", "model": "revenue_share", "revenue_share_percent": "10",
                   "currency": CURRENCY, "cookie_window_days": 45}),
        ),
        (
            "aff-growthpod",
            json!({"name": "Growth Pod", "model": "flat_cpl", "amount": "25.00",
                   "currency": CURRENCY, "cookie_window_days": 30}),
        ),
    ]
}

/// Cents as a decimal string.
pub fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// A decimal string as millionths (extra places are cut).
pub fn parse_micros(s: &str) -> Option<i64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    Some(whole.parse::<i64>().ok()? * 1_000_000 + sign * frac.parse::<i64>().ok()?)
}

/// Millionths as a decimal string.
pub fn micros(m: i64) -> String {
    format!("{}.{:06}", m / 1_000_000, m % 1_000_000)
}
