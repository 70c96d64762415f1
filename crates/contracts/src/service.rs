//! The services that publish and consume events.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Leads,
    Funnel,
    Touchpoints,
    Breakeven,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Leads,
        Service::Funnel,
        Service::Touchpoints,
        Service::Breakeven,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Leads => "leads",
            Service::Funnel => "funnel",
            Service::Touchpoints => "touchpoints",
            Service::Breakeven => "breakeven",
        }
    }

    /// The CloudEvents `source` of everything this service publishes.
    pub const fn source(self) -> &'static str {
        match self {
            Service::Leads => "/touchstone/leads",
            Service::Funnel => "/touchstone/funnel",
            Service::Touchpoints => "/touchstone/touchpoints",
            Service::Breakeven => "/touchstone/breakeven",
        }
    }

    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
