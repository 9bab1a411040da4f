//! Typed forms: [`form!`](crate::form) declares a form's struct (what the handler receives) and, from the same
//! field list, the names the page's inputs use (`RenameForm::FIELDS.name`). Renaming a field renames both, and a page
//! still using the old name no longer compiles.

/// Declares a form struct (every field `String` or `Option<…>`, missing fields empty) and its `FIELDS` names.
#[macro_export]
macro_rules! form {
    ($(#[$m:meta])* pub struct $name:ident, names $names:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
        pub struct $name {
            $( $(#[$fm])* #[serde(default)] pub $f: $t, )*
        }

        #[doc = concat!("The input names of [`", stringify!($name), "`].")]
        #[derive(Debug, Clone, Copy)]
        pub struct $names {
            $( #[doc = concat!("`", stringify!($f), "`")] pub $f: &'static str, )*
        }

        impl $name {
            /// The names the page's inputs must carry.
            pub const FIELDS: $names = $names { $( $f: stringify!($f), )* };

            /// What was typed, by input name, to fill the form with again after a refusal. Fields named like a
            /// secret (`secret`, `token`, `password`, `key`) are never kept.
            pub fn typed(&self) -> Vec<(String, String)> {
                let fields = vec![ $( (stringify!($f).to_string(), $crate::web::form::Typed::shown(&self.$f)), )* ];
                fields.into_iter().filter(|(name, _)| !$crate::web::form::is_secret(name)).collect()
            }
        }
    };
}

/// Whether an input holds a secret by its name, so it is never kept to fill a refused form again.
pub fn is_secret(name: &str) -> bool {
    ["secret", "token", "password", "key"].iter().any(|word| name.contains(word))
}

/// A form field's value as the input shows it again.
pub trait Typed {
    /// The text to put back into the input.
    fn shown(&self) -> String;
}

impl Typed for String {
    fn shown(&self) -> String {
        self.clone()
    }
}

impl<T: std::fmt::Display> Typed for Option<T> {
    fn shown(&self) -> String {
        self.as_ref().map(ToString::to_string).unwrap_or_default()
    }
}

crate::form! {
    /// A form whose only field is the answer to "are you sure?" (see `web::confirm`).
    pub struct ConfirmForm, names ConfirmFields {
        /// `yes` once asked and agreed; anything else is asked first.
        pub confirmed: String,
    }
}

/// The file input of every single-file import form (directory, price list, meter map).
pub const FILE_FIELD: &str = "file";

/// Reads a `datetime-local` input (`YYYY-MM-DDTHH:MM[:SS]`) as UTC; empty means "now" (`None`). The error names
/// the field as the form labels it.
pub fn datetime_local(field: &str, s: &str) -> Result<Option<time::OffsetDateTime>, crate::AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let with_seconds = if s.len() == 16 { format!("{s}:00Z") } else { format!("{s}Z") };
    time::OffsetDateTime::parse(&with_seconds, &time::format_description::well_known::Rfc3339).map(Some).map_err(|_| {
        crate::AppError::Validation(format!("{field}: “{s}” is not a date and time such as 2026-11-01T00:00"))
    })
}

#[cfg(test)]
mod tests {
    crate::form! {
        /// A form for the test.
        pub struct Example, names ExampleFields {
            /// A field.
            pub name: String,
            /// Another.
            pub version: Option<i64>,
        }
    }

    #[test]
    fn names_follow_the_fields_and_missing_fields_are_empty() {
        assert_eq!(Example::FIELDS.name, "name");
        assert_eq!(Example::FIELDS.version, "version");
        let parsed: Example = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, Example::default());
        let typed = Example { name: "ams-01".into(), version: Some(3) }.typed();
        assert!(super::is_secret("client_secret") && super::is_secret("bearer_token") && !super::is_secret("name"));
        assert_eq!(typed, [("name".to_string(), "ams-01".to_string()), ("version".to_string(), "3".to_string())]);
    }

    #[test]
    fn a_datetime_local_value_is_read_as_utc_and_a_bad_one_is_named() {
        use time::macros::datetime;
        assert_eq!(super::datetime_local("effective from", " ").unwrap(), None);
        assert_eq!(
            super::datetime_local("effective from", "2026-11-01T00:00").unwrap(),
            Some(datetime!(2026-11-01 0:00 UTC))
        );
        let e = super::datetime_local("effective from", "1 Nov").unwrap_err().to_string();
        assert!(e.starts_with("effective from: “1 Nov”"), "{e}");
    }
}
