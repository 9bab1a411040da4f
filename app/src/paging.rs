//! Pages of long lists: every list a page shows is read one page at a time (`limit` one more than the page, so the
//! page knows whether another follows, without counting), with "Previous" and "Next" links that keep the rest of
//! the address. Addresses count pages from 1 (`?page=2` is the second page); the code counts from 0. Page numbers
//! out of range are refused by name, never overflowed.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The deepest page asked for: further back is reached by filtering, not by paging.
pub const MAX_PAGE: i64 = 10_000;

/// One page of a list and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// This page's number, from 0.
    pub page: i64,
    /// Whether a next page exists.
    pub more: bool,
}

/// Which page of `size` rows to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOf {
    /// The page, from 0.
    pub page: i64,
    /// Rows per page.
    pub size: i64,
}

impl PageOf {
    /// Page `page` (from 0) of `size` rows; `field` names the address's parameter in the refusal.
    pub fn new(field: &str, page: i64, size: i64) -> Result<Self, AppError> {
        if !(0..MAX_PAGE).contains(&page) {
            return Err(AppError::Validation(format!("{field}: give a page number from 1 to {MAX_PAGE}")));
        }
        Ok(Self { page, size })
    }

    /// The SQL `limit`: one more row than the page shows.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    /// The SQL `offset`.
    pub fn offset(&self) -> i64 {
        self.page * self.size
    }

    /// The page from rows read with [`limit`](Self::limit) and [`offset`](Self::offset).
    pub fn of<T>(&self, mut rows: Vec<T>) -> Paged<T> {
        let more = rows.len() as i64 > self.size;
        rows.truncate(self.size as usize);
        Paged { rows, page: self.page, more }
    }
}

/// The page (from 0) an address's query asks for (`?page=3` is page 2): absent or unreadable is the first page;
/// out of range (`0`, `-1`, `9223372036854775807`) is for [`PageOf::new`] to refuse.
pub fn page_param(value: Option<String>) -> i64 {
    match value.map(|v| v.trim().parse::<i64>()) {
        Some(Ok(n)) => n.checked_sub(1).unwrap_or(-1),
        _ => 0,
    }
}

/// "Previous" and "Next" for a list: `href(n)` is the address of page `n`. Nothing when there is one page.
#[component]
pub fn Pager(
    page: i64,
    more: bool,
    href: impl Fn(i64) -> String + 'static,
    #[prop(into)] label: String,
) -> impl IntoView {
    (page > 0 || more).then(|| {
        view! {
            <nav class="pager" aria-label=label>
                {(page > 0).then(|| view! { <a href=href(page - 1) rel="prev">"← Previous"</a> })}
                <span>{format!(" Page {} ", page + 1)}</span>
                {more.then(|| view! { <a href=href(page + 1) rel="next">"Next →"</a> })}
            </nav>
        }
    })
}

/// The current address's query, for [`with_page`].
pub fn current_query() -> Vec<(String, String)> {
    pairs(leptos_router::hooks::use_query_map().get_untracked())
}

/// An address's query as its pairs.
pub fn pairs(query: leptos_router::params::ParamsMap) -> Vec<(String, String)> {
    query.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
}

/// `path?query` with `name` set to page `page` (from 0; written from 1, the first page without it) and every other
/// parameter kept (form-encoded).
pub fn with_page(path: &str, query: &[(String, String)], name: &str, page: i64) -> String {
    let mut pairs: Vec<String> =
        query.iter().filter(|(k, _)| k != name).map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    if page > 0 {
        pairs.push(format!("{name}={}", page + 1));
    }
    match pairs.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{}", pairs.join("&")),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_out_of_range_are_refused_by_name_not_overflowed() {
        assert_eq!(PageOf::new("page", 2, 50).unwrap().offset(), 100);
        for page in [i64::MAX, -5, MAX_PAGE + 1] {
            let refused = PageOf::new("subs_page", page, 50).unwrap_err().to_string();
            assert!(refused.starts_with("subs_page: give a page number from 1"), "{refused}");
        }
    }

    #[test]
    fn addresses_count_pages_from_one() {
        let param = |v: &str| page_param(Some(v.into()));
        assert_eq!((param("1"), param("3"), page_param(None), param("x")), (0, 2, 0, 0));
        assert_eq!((param("0"), param("-9223372036854775808")), (-1, -1), "refused by PageOf::new");
    }

    #[test]
    fn a_page_knows_whether_another_follows() {
        let of = PageOf::new("page", 0, 2).unwrap();
        assert_eq!(of.of(vec![1, 2, 3]), Paged { rows: vec![1, 2], page: 0, more: true });
        assert_eq!(of.of(vec![1, 2]), Paged { rows: vec![1, 2], page: 0, more: false });
    }

    #[test]
    fn page_links_keep_the_other_parameters_encoded() {
        let q = vec![("q".to_string(), "a&b c".to_string()), ("page".to_string(), "4".to_string())];
        assert_eq!(with_page("/operator", &q, "page", 5), "/operator?q=a%26b+c&page=6");
        assert_eq!(with_page("/operator", &q, "page", 0), "/operator?q=a%26b+c");
    }
}
