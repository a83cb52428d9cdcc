//! Input checks shared by the browser (instant feedback) and the server (the
//! authority). Each returns the message a person sees next to the field.

/// Trims a display name and checks its length in characters.
pub fn display_name(value: &str, what: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(format!("{what} cannot be empty."));
    }
    plain_text(trimmed, what, false)?;
    if len > max {
        return Err(format!(
            "{what} can be at most {max} characters (it has {len})."
        ));
    }
    Ok(trimmed.to_string())
}

/// Text a person typed: no control characters (they print as nothing, or
/// break CSV, PDF and PostgreSQL), apart from line breaks and tabs where the
/// field has several lines; and no invisible characters that change how the
/// rest reads ([`invisible`]). Letters of every script are allowed.
pub fn plain_text(value: &str, what: &str, multiline: bool) -> Result<(), String> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(format!("{what} cannot contain control characters."));
    }
    if let Some(c) = value.chars().find(|c| invisible(*c).is_some()) {
        return Err(format!(
            "{what} cannot contain {} (U+{:04X}): it changes how the text reads without showing.",
            invisible(c).unwrap_or("an invisible character"),
            c as u32
        ));
    }
    let chars: Vec<char> = value.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if joiner(*c) {
            let visible = |n: Option<&char>| n.is_some_and(|n| !n.is_whitespace() && !joiner(*n));
            if !(i > 0 && visible(chars.get(i - 1)) && visible(chars.get(i + 1))) {
                return Err(format!(
                    "{what} can have a zero-width joiner or non-joiner (U+{:04X}) only inside a word.",
                    *c as u32
                ));
            }
        }
    }
    Ok(())
}

/// What an invisible character that is refused in text is called: bidi
/// overrides, embeddings and isolates (`abc\u{202e}gnp.exe` shows as
/// `abcexe.png`), bidi marks, zero-width spaces, the word joiner and the
/// other invisible operators, the byte order mark, line and paragraph
/// separators, and the blank fillers that make a name look empty.
fn invisible(c: char) -> Option<&'static str> {
    match c {
        '\u{202A}'..='\u{202E}' => Some("a bidirectional override"),
        '\u{2066}'..='\u{2069}' => Some("a bidirectional isolate"),
        '\u{200E}' | '\u{200F}' | '\u{061C}' => Some("a direction mark"),
        '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{180E}' => Some("a zero-width space"),
        '\u{206A}'..='\u{206F}' | '\u{034F}' | '\u{00AD}' => {
            Some("an invisible formatting character")
        }
        '\u{FEFF}' => Some("a byte order mark"),
        '\u{2028}' | '\u{2029}' => Some("a line or paragraph separator"),
        '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' | '\u{2800}' => {
            Some("a blank filler character")
        }
        _ => None,
    }
}

/// Zero-width (non-)joiners: part of the spelling of Persian, the Indic
/// scripts and emoji, so allowed between two visible characters only.
fn joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Project names are DNS labels: 1–63 lowercase letters, digits and hyphens,
/// starting with a letter and not ending with a hyphen.
pub fn project_name(value: &str) -> Result<String, String> {
    dns_label(value, "Project name", 63)
}

/// A service's name as Aiven takes it: the same rule as a project's, at
/// most 64 characters.
pub fn service_name(value: &str) -> Result<String, String> {
    dns_label(value, "Service name", 64)
}

/// A name that can be part of a host name: lowercase letters, digits and
/// hyphens, starting with a letter, not ending with a hyphen.
fn dns_label(value: &str, what: &str, max: usize) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() {
        return Err(format!("{what} cannot be empty."));
    }
    if name.len() > max {
        return Err(format!(
            "{what} can be at most {max} characters (it has {}).",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("{what} must start with a lowercase letter."));
    }
    if name.ends_with('-') {
        return Err(format!("{what} cannot end with a hyphen."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "{what} can contain only lowercase letters, digits and hyphens (not '{bad}')."
        ));
    }
    Ok(name.to_string())
}

/// A cloud's name as Aiven writes them (`google-europe-north1`,
/// `aws-eu-west-1`): 1–64 lowercase letters, digits and hyphens.
pub fn cloud_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() || name.len() > 64 {
        return Err("A cloud name has 1 to 64 characters, like google-europe-north1.".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "A cloud name can contain only lowercase letters, digits and hyphens (not '{bad}')."
        ));
    }
    Ok(name.to_string())
}

/// A plausible email address, lowercased. Not a full RFC 5322 parser: one @,
/// a non-empty local part, a domain with a dot, no spaces.
pub fn email(value: &str) -> Result<String, String> {
    let email = value.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err(format!("'{}' is not an email address.", value.trim()));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty()
        || !domain_ok
        || domain.contains('@')
        || email.chars().any(char::is_whitespace)
        || email.len() > 254
    {
        return Err(format!("'{}' is not an email address.", value.trim()));
    }
    Ok(email)
}

/// The fewest characters a password may have (NIST SP 800-63B asks for
/// at least 8; without a second factor, longer is the better defence).
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Passwords refused whatever their length: the most common ones that are
/// 12 characters or longer.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789012345",
    "1234567890qwerty",
    "qwertyuiopasdfgh",
    "qwertyuiop123",
    "qwertyuiopasdfghjkl",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "password1password1",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "changeme1234",
    "administrator",
    "administrator1",
    "adminadmin123",
    "billingconsole",
    "billing-console",
];

/// The password rule: long enough, not a known common password, not the
/// email or its name, not a handful of characters repeated.
pub fn password(value: &str, email: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(format!(
            "Use at least {PASSWORD_MIN_CHARS} characters (a few unrelated words work well)."
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(format!("Use at most {PASSWORD_MAX_CHARS} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("A password cannot contain control characters.".into());
    }
    let lower = value.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err("This password is among the most common ones; choose another.".into());
    }
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    if distinct.len() < 5 {
        return Err("Use more different characters.".into());
    }
    let email = email.trim().to_lowercase();
    let name = email.split('@').next().unwrap_or_default();
    if (!email.is_empty() && lower.contains(&email)) || (name.len() >= 4 && lower.contains(name)) {
        return Err("A password cannot contain your email address or its name.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_lines_are_kept_where_allowed() {
        assert!(plain_text("Acme Oy", "Company", false).is_ok());
        assert!(plain_text("a\u{0}b", "Company", false).is_err());
        assert!(plain_text("a\u{1a}b", "Company", false).is_err());
        assert!(plain_text("line 1\nline 2", "Company", false).is_err());
        assert!(plain_text("line 1\r\nline 2\tend", "Extra text", true).is_ok());
        assert!(plain_text("ÅÄÖ – ünïcödé", "Company", false).is_ok());
        assert!(display_name("Ops\u{7}", "Name", 128).is_err());
    }

    #[test]
    fn invisible_characters_that_change_how_a_name_reads_are_refused() {
        for bad in [
            "abc\u{202e}gnp.exe",
            "a\u{2066}b\u{2069}",
            "\u{200b}Acme",
            "Ac\u{feff}me",
            "Acme\u{2028}Oy",
            "Acme\u{200f}",
            "\u{200d}Acme",
            "Acme \u{200c}",
            "\u{3164}",
            "Ac\u{00ad}me",
            "\u{2800}\u{2800}",
        ] {
            let refused = display_name(bad, "Name", 128).unwrap_err();
            assert!(refused.contains("U+"), "{bad:?}: {refused}");
        }
        for good in [
            "Müller & Søn Łódź 株式会社",
            "Ελληνικά Ρωσικά Русский",
            // Persian, with a zero-width non-joiner inside the word
            "می\u{200c}خواهم",
            "עברית العربية",
            "👩\u{200d}💻 team",
        ] {
            assert!(display_name(good, "Name", 128).is_ok(), "{good:?} refused");
        }
        assert!(plain_text("line 1\u{2029}line 2", "Extra text", true).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("  Ops  ", "Name", 128).unwrap(), "Ops");
        assert!(display_name("   ", "Name", 128).is_err());
        assert!(display_name(&"x".repeat(129), "Name", 128).is_err());
        assert!(display_name(&"é".repeat(128), "Name", 128).is_ok());
    }

    #[test]
    fn project_names_are_dns_labels() {
        assert_eq!(project_name("prod-eu-1").unwrap(), "prod-eu-1");
        for bad in ["", "Prod", "1abc", "abc-", "a_b", &"a".repeat(64)] {
            assert!(project_name(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn passwords_must_be_long_uncommon_and_not_the_email() {
        let email = "ann.smith@example.com";
        assert!(password("correct horse battery", email).is_ok());
        assert!(password("short", email).unwrap_err().contains("12"));
        assert!(password("Password1234", email)
            .unwrap_err()
            .contains("common"));
        assert!(password("aaaaaaaaaaaaaaaa", email)
            .unwrap_err()
            .contains("different"));
        assert!(password("ann.smith-2026!", email)
            .unwrap_err()
            .contains("email"));
        assert!(password(&"ab3de".repeat(60), email)
            .unwrap_err()
            .contains("at most"));
        assert!(password("tab\there and there", email).is_err());
    }
}
