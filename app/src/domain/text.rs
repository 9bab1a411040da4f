//! Text that leaves Stackbill in a form someone else interprets: HTML outside Leptos' views, CSV cells a
//! spreadsheet may run, and echoes of what a user typed.

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A text cell of a CSV export, neutralised the OWASP way: a cell that a spreadsheet would read as a formula (it
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`. Numbers are written as they
/// are, never through this, so `-0.30` stays a number.
pub fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// What a user typed, for an error message: at most 40 characters, so a message never carries more of the input
/// than it needs to name it.
pub fn echo(s: &str) -> String {
    const MAX: usize = 40;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `5b5c…0001`: enough of an ID to tell it apart in a sentence (anything but a UUID is given whole).
pub fn short_id(id: &str) -> String {
    if id.len() == 36 && id.is_ascii() {
        format!("{}…{}", &id[..4], &id[32..])
    } else {
        id.to_string()
    }
}

/// "Tailspin Toys'" or "Northwind's".
pub fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// A name as part of a file name: lowercase letters and digits, words joined by `-`, at most 40 characters
/// ("Northwind Traders, Inc." gives `northwind-traders-inc`).
pub fn slug(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = words.join("-");
    slug.truncate(40);
    match slug.trim_end_matches('-') {
        // A name without a Latin letter or digit ("東京") still gives a part.
        "" => "unnamed".to_string(),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_shortened_and_names_made_possessive() {
        assert_eq!(short_id("5b5c0000-0000-4000-8000-000000000001"), "5b5c…0001");
        assert_eq!(short_id("ams-01"), "ams-01");
        assert_eq!(possessive("Tailspin Toys"), "Tailspin Toys'");
        assert_eq!(possessive("Northwind"), "Northwind's");
    }

    #[test]
    fn names_become_file_name_parts() {
        assert_eq!(slug("Northwind Traders, Inc."), "northwind-traders-inc");
        assert_eq!(slug("contoso-ams-01"), "contoso-ams-01");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("Ünïcode only"), "n-code-only");
        assert_eq!(slug("東京"), "unnamed");
    }

    #[test]
    fn markup_is_escaped_and_formulas_neutralised_but_numbers_kept() {
        assert_eq!(html_escape("<img src=x onerror='a(1)'>&"), "&lt;img src=x onerror=&#39;a(1)&#39;&gt;&amp;");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("\tx"), "'\tx");
        assert_eq!(csv_text("Northwind"), "Northwind");
        assert_eq!(echo(&"x".repeat(100)).chars().count(), 41);
    }
}
