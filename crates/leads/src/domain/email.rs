//! A lead's email address, normalised so that one person has one lead.

/// A syntactically valid email, trimmed and lower-cased. Only `parse` makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("must contain @".into());
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err("is not a valid address".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err("has an invalid domain".into());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// Whether the address is at a free-mail provider, whose domain never identifies a company.
    pub fn is_free_mail(&self) -> bool {
        is_free_mail_domain(self.domain())
    }
}

/// Consumer mail providers: a lead at one of these is never matched to an account by domain.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "hey.com",
    "fastmail.com",
    "tutanota.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "t-online.de",
];

pub fn is_free_mail_domain(domain: &str) -> bool {
    FREE_MAIL.contains(&domain)
}

/// A company's web domain as accounts store it: lower-case, no scheme, `www.` or path.
pub fn normalise_domain(raw: &str) -> Result<String, String> {
    let mut d = raw.trim().to_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = d.strip_prefix(prefix) {
            d = rest.to_string();
        }
    }
    if let Some(rest) = d.strip_prefix("www.") {
        d = rest.to_string();
    }
    let d = d.split('/').next().unwrap_or_default().to_string();
    Email::parse(&format!("x@{d}")).map_err(|_| "is not a valid domain".to_string())?;
    if is_free_mail_domain(&d) {
        return Err("is a free-mail domain, which cannot identify an account".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let e = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn free_mail_is_recognised_and_never_a_company_domain() {
        assert!(Email::parse("someone@Gmail.com").unwrap().is_free_mail());
        assert!(!Email::parse("someone@acme.io").unwrap().is_free_mail());
        assert_eq!(
            normalise_domain(" https://www.Acme.io/about ").unwrap(),
            "acme.io"
        );
        assert!(normalise_domain("gmail.com").is_err());
        assert!(normalise_domain("not a domain").is_err());
    }

    #[test]
    fn rejects_invalid_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
