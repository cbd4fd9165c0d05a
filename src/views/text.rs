//! Text a reader can trust: names and identifiers hold no control characters, and no text
//! holds bidirectional embeddings, overrides or isolates, which make a name read otherwise
//! than it is stored (a licence number that displays as another one). Free text keeps its
//! line breaks and tabs. NUL is refused earlier, for every field (`extract`).

use validator::ValidationError;

/// U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn refused(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// A name, number or identifier: one line of printable text.
pub fn single_line(s: &str) -> Result<(), ValidationError> {
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(refused("single_line", "must not contain control or bidirectional-override characters"));
    }
    Ok(())
}

/// A reason, note or comment: line breaks and tabs allowed, other control characters not.
pub fn free_text(s: &str) -> Result<(), ValidationError> {
    if s.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c)) {
        return Err(refused("free_text", "must not contain control characters other than line breaks and tabs, nor bidirectional overrides"));
    }
    Ok(())
}

/// An ISO 3166-1 alpha-2 country code, in either case.
pub fn country_code(s: &str) -> Result<(), ValidationError> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(refused("country_code", "must be a two-letter ISO country code"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_of_printable_text() {
        assert!(single_line("Аптека №5 «Шифо»").is_ok());
        assert!(single_line("KZ-LIC-0001").is_ok());
        for bad in ["a\nb", "a\tb", "a\u{7}b", "a\u{1b}[31m", "LIC\u{202E}1000", "x\u{2066}y", "a\u{85}b"] {
            assert!(single_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn country_codes_are_two_ascii_letters() {
        assert!(country_code("KZ").is_ok());
        assert!(country_code("kg").is_ok());
        for bad in ["", "K", "KAZ", "K1", "Ù\u{7}", "ÙÙ"] {
            assert!(country_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn free_text_keeps_line_breaks_and_tabs_only() {
        assert!(free_text("first line\r\nsecond\tcolumn").is_ok());
        for bad in ["a\u{7}b", "a\u{1b}[31m", "note \u{202D}reversed", "a\u{2069}"] {
            assert!(free_text(bad).is_err(), "{bad:?}");
        }
    }
}
