//! Text inside `<title>` and `<textarea>`. Leptos treats both as raw-text
//! elements and writes their text unescaped when it renders on the server
//! (leptos-rs/leptos PR #4730, reverted in #4819), so a group named
//! `x</title><meta …>` would end the element and add markup to every
//! viewer's page. Both are RCDATA to the browser: character references in
//! them are decoded, tags are not parsed, so escaping `&`, `<` and `>`
//! shows the text exactly as typed.

/// `text` with `&`, `<` and `>` written as character references.
pub fn escape_raw_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A page's `<title>`: "{text} · Billing console". On the server it goes
/// into the HTML unescaped by Leptos, so it is escaped here; in the browser
/// it is set as `document.title`, which is text already.
pub fn page_title(text: String) -> String {
    let title = format!("{text} · Billing console");
    if cfg!(feature = "ssr") {
        escape_raw_text(&title)
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_raw_text_is_written_as_text() {
        assert_eq!(
            escape_raw_text(r#"x</title><meta http-equiv="refresh">&amp;"#),
            r#"x&lt;/title&gt;&lt;meta http-equiv="refresh"&gt;&amp;amp;"#
        );
        assert_eq!(
            escape_raw_text("Müller & Søn 株式会社"),
            "Müller &amp; Søn 株式会社"
        );
    }
}
