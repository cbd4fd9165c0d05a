//! Languages of the pages: Project Fluent catalogues under `locales/<language>/*.ftl`,
//! embedded at build time (`fluent-templates`), English the fallback. A language is added by
//! adding its folder: the list of languages, their names (`language-name`), number
//! separators and month names all come from the catalogues.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

use crate::domain::format::{self, NumberStyle};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they end up in CSV cells and titles.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The fallback language.
pub const FALLBACK: &str = "en";

/// The languages with a catalogue, sorted by code.
pub fn languages() -> &'static [String] {
    static LANGUAGES: OnceLock<Vec<String>> = OnceLock::new();
    LANGUAGES.get_or_init(|| {
        let mut codes: Vec<String> = LOCALES.locales().map(|l| l.to_string()).collect();
        codes.sort();
        codes
    })
}

/// The best known language for an `Accept-Language` header (its first known tag).
pub fn from_accept_language(header: Option<&str>) -> String {
    header
        .unwrap_or("")
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(|tag| tag.trim().to_ascii_lowercase())
        .find_map(|tag| {
            let primary = tag.split('-').next().unwrap_or("").to_owned();
            languages().iter().find(|l| **l == tag || **l == primary).cloned()
        })
        .unwrap_or_else(|| FALLBACK.to_owned())
}

/// A translator for one language: messages, numbers and dates.
#[derive(Debug, Clone)]
pub struct Tr {
    pub lang: String,
    id: LanguageIdentifier,
    style: NumberStyle,
}

impl Tr {
    /// The translator for `lang` (the fallback for an unknown language).
    pub fn new(lang: &str) -> Tr {
        let lang = if languages().iter().any(|l| l == lang) { lang } else { FALLBACK };
        let id: LanguageIdentifier = lang.parse().unwrap_or_default();
        let raw = |key: &str| LOCALES.lookup(&id, key);
        let style = NumberStyle { group: raw("number-group"), decimal: raw("number-decimal") };
        Tr { lang: lang.to_owned(), id, style }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.id, key)
    }

    /// Whether the catalogue (or the fallback) has `key`.
    pub fn has(&self, key: &str) -> bool {
        LOCALES.try_lookup(&self.id, key).is_some()
    }

    /// The message `key` with named arguments.
    pub fn with(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args.iter().map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone()))).collect();
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl std::fmt::Display) -> String {
        self.with(key, &[(name, value.to_string())])
    }

    /// The message `key` with two arguments.
    pub fn t2(&self, key: &str, a: &'static str, av: impl std::fmt::Display, b: &'static str, bv: impl std::fmt::Display) -> String {
        self.with(key, &[(a, av.to_string()), (b, bv.to_string())])
    }

    /// A value of a vocabulary (`prefix-value`), or the value itself when the catalogue
    /// has no word for it: stable codes stay readable.
    pub fn word(&self, prefix: &str, value: &str) -> String {
        let key = format!("{prefix}-{}", value.replace('_', "-"));
        LOCALES.try_lookup(&self.id, &key).unwrap_or_else(|| value.to_owned())
    }

    /// `value` with `scale` digits after the decimal mark.
    pub fn dec(&self, value: &BigDecimal, scale: i64) -> String {
        format::decimal(value, scale, &self.style)
    }

    /// An optional value, or the "no data" word.
    pub fn opt(&self, value: Option<&BigDecimal>, scale: i64) -> String {
        match value {
            Some(v) => self.dec(v, scale),
            None => self.t("no-data"),
        }
    }

    pub fn int(&self, value: i64) -> String {
        format::integer(value, &self.style)
    }

    /// A day as the language writes it.
    pub fn date(&self, day: NaiveDate) -> String {
        let months: [String; 12] = std::array::from_fn(|i| self.t(&format!("month-{}", i + 1)));
        let (d, month, year) = format::date_parts(day, &months);
        self.with("date", &[("day", d.to_string()), ("month", month), ("year", year.to_string())])
    }

    /// A moment as the language writes it (UTC, to the minute).
    pub fn moment(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        format!("{} {} UTC", self.date(at.date_naive()), at.format("%H:%M"))
    }
}

/// Every message key of a catalogue file (the identifiers of its messages).
pub fn keys_of(ftl: &str) -> Vec<String> {
    ftl.lines()
        .filter(|line| line.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn catalogue(lang: &str) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for key in keys_of(&text) {
                assert!(keys.insert(key.clone()), "{key} twice in {lang}");
            }
        }
        keys
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let en = catalogue("en");
        assert!(en.len() > 50);
        for lang in languages() {
            let other = catalogue(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in en {extra:?}");
        }
        assert_eq!(languages(), ["en", "ru"]);
    }

    #[test]
    fn every_key_the_templates_and_pages_use_is_in_the_catalogue() {
        let en = catalogue("en");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        for dir in ["templates", "src/pages"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for marker in [".t(\"", ".t1(\"", ".t2(\"", ".with(\""] {
                    for piece in text.split(marker).skip(1) {
                        if let Some(key) =
                            piece.split('"').next().filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                        {
                            used.insert(key.to_owned());
                        }
                    }
                }
            }
        }
        let missing: Vec<_> = used.iter().filter(|k| !en.contains(*k)).collect();
        assert!(missing.is_empty(), "keys used but not in locales/en: {missing:?}");
    }

    #[test]
    fn every_value_of_the_vocabularies_the_pages_name_has_a_word() {
        use crate::app::dispensing::RecordStatus;
        use crate::db::enums::*;
        fn values<T: Copy>(all: &[T], text: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|v| text(*v)).collect()
        }
        use crate::views::exchange::ExchangeMonthStatus;
        let vocabularies: [(&str, Vec<&str>); 13] = [
            ("kind", values(StockEventKind::ALL, StockEventKind::as_str)),
            ("indication", values(Indication::ALL, Indication::as_str)),
            ("severity", values(Severity::ALL, Severity::as_str)),
            ("status", values(FlagStatus::ALL, FlagStatus::as_str)),
            ("subject", values(SubjectType::ALL, SubjectType::as_str)),
            ("category", values(RuleCategory::ALL, RuleCategory::as_str)),
            ("mode", values(RuleMode::ALL, RuleMode::as_str)),
            ("role", values(Role::ALL, Role::as_str)),
            ("action", values(FlagEventAction::ALL, FlagEventAction::as_str)),
            ("visibility", values(CommentVisibility::ALL, CommentVisibility::as_str)),
            ("record", values(RecordStatus::ALL, RecordStatus::as_str)),
            ("exchange-section", values(ExchangeSection::ALL, ExchangeSection::as_str)),
            ("exchange-status", values(ExchangeMonthStatus::ALL, ExchangeMonthStatus::as_str)),
        ];
        for lang in languages() {
            let keys = catalogue(lang);
            let missing: Vec<String> = vocabularies
                .iter()
                .flat_map(|(prefix, values)| values.iter().map(move |v| format!("{prefix}-{}", v.replace('_', "-"))))
                .filter(|key| !keys.contains(key))
                .collect();
            assert!(missing.is_empty(), "{lang}: no word for {missing:?}");
        }
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        let en = Tr::new("en");
        let ru = Tr::new("ru");
        let v: BigDecimal = "1234.5".parse().unwrap();
        assert_eq!(en.dec(&v, 1), "1,234.5");
        assert_eq!(ru.dec(&v, 1), "1\u{a0}234,5");
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(en.date(day), "9 Mar 2026");
        assert_eq!(ru.date(day), "9 мар. 2026");
        assert_eq!(Tr::new("xx").lang, "en");
        assert_eq!(from_accept_language(Some("ru-RU,ru;q=0.9,en;q=0.8")), "ru");
        assert_eq!(from_accept_language(Some("de")), "en");
    }
}
