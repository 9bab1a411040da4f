//! Lists sorted by the column the user picks. The order travels in the address (`?sort=cost&desc=1`), so a sorted
//! view is a link and works without JavaScript; a column heading links to its own order (ascending first, then the
//! other way) and says which order is in force (`aria-sort`). Each list reads the column from its own list of known
//! columns, so nothing the address says reaches SQL but a column the list names. A page with several lists (the
//! operator's) names each list's keys after it (`?directory_sort=customer&directory_desc=1`).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The order asked for: a column's key and its direction; no column means the list's own order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The column's key (`cost`), or empty.
    #[serde(default)]
    pub sort: String,
    /// `1` for descending.
    #[serde(default)]
    pub desc: String,
}

impl Order {
    /// The order in the current address.
    pub fn of_query(query: &[(String, String)]) -> Self {
        Self::of_list(query, "")
    }

    /// The order of the list named `list` in the current address (`""`: the page's one list).
    pub fn of_list(query: &[(String, String)], list: &str) -> Self {
        let (sort, desc) = keys(list);
        let get = |k: &str| query.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
        Self { sort: get(&sort), desc: get(&desc) }
    }

    /// Whether the order is descending.
    pub fn descending(&self) -> bool {
        self.desc == "1"
    }

    /// The column asked for, if the list knows it (`known` pairs a key with what the list does with it).
    pub fn column<T: Copy>(&self, known: &[(&str, T)]) -> Option<T> {
        known.iter().find(|(key, _)| *key == self.sort).map(|(_, c)| *c)
    }

    /// A list's `order by`: the SQL expression `known` gives the column asked for, in its direction, then
    /// `tiebreak` (which makes the order total, so pages neither repeat nor skip a row); `default` when no known
    /// column is asked for. Only the list's own expressions reach SQL.
    pub fn sql(&self, known: &[(&str, &str)], default: &str, tiebreak: &str) -> String {
        match self.column(known) {
            Some(expr) => format!("{expr} {} nulls last, {tiebreak}", if self.descending() { "desc" } else { "asc" }),
            None => default.to_string(),
        }
    }
}

/// One list's place in the address: its page (from 0) and its order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAt {
    /// The page, from 0.
    pub page: i64,
    /// The order.
    pub order: Order,
}

impl ListAt {
    /// The page (`page_name`) and order of the list named `list` in the address.
    pub fn of(query: &[(String, String)], list: &str, page_name: &str) -> Self {
        let page = query.iter().find(|(k, _)| k == page_name).map(|(_, v)| v.clone());
        Self { page: crate::paging::page_param(page), order: Order::of_list(query, list) }
    }
}

/// The address's keys of a list's column and direction.
fn keys(list: &str) -> (String, String) {
    match list {
        "" => ("sort".into(), "desc".into()),
        l => (format!("{l}_sort"), format!("{l}_desc")),
    }
}

/// `path?query` with `list` sorted by `column`: ascending, or descending when it is already sorted ascending by it;
/// the other parameters kept, and the list back to its first page (`page_name` dropped).
pub fn sorted_by(path: &str, query: &[(String, String)], list: &str, page_name: &str, column: &str) -> String {
    let now = Order::of_list(query, list);
    let desc = now.sort == column && !now.descending();
    let (sort_key, desc_key) = keys(list);
    let kept: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| *k != sort_key && *k != desc_key && k != page_name)
        .cloned()
        .chain(std::iter::once((sort_key.clone(), column.to_string())))
        .chain(desc.then(|| (desc_key.clone(), "1".to_string())))
        .collect();
    crate::paging::with_page(path, &kept, page_name, 0)
}

/// A column heading that sorts its list: a link to the list ordered by it, with an arrow and `aria-sort` when it is
/// the order in force.
#[component]
pub fn SortHeader(
    /// What the heading says.
    label: String,
    /// The column's key in the address.
    column: &'static str,
    /// The list's address (without its query).
    path: String,
    /// The list's name in the address, on a page with several lists (`""`: the page's one list).
    #[prop(default = "")]
    list: &'static str,
    /// The list's page parameter, reset when the order changes.
    #[prop(default = "page")]
    page_name: &'static str,
    /// Whether the column holds numbers (aligned right).
    #[prop(optional)]
    num: bool,
) -> impl IntoView {
    let query = crate::paging::current_query();
    let now = Order::of_list(&query, list);
    let (sorted, arrow) = match (now.sort == column, now.descending()) {
        (true, false) => (Some("ascending"), " ↑"),
        (true, true) => (Some("descending"), " ↓"),
        _ => (None, ""),
    };
    let href = sorted_by(&path, &query, list, page_name, column);
    view! {
        <th scope="col" class=if num { "num" } else { "" } aria-sort=sorted>
            <a class="sort" href=href>{label}{arrow}</a>
        </th>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_heading_sorts_ascending_then_descending_and_goes_back_to_page_one() {
        let filters = q(&[("from", "2026-10-01"), ("page", "3")]);
        assert_eq!(sorted_by("/usage", &filters, "", "page", "cost"), "/usage?from=2026-10-01&sort=cost");
        let by_cost = q(&[("from", "2026-10-01"), ("sort", "cost")]);
        assert_eq!(sorted_by("/usage", &by_cost, "", "page", "cost"), "/usage?from=2026-10-01&sort=cost&desc=1");
        let by_cost_desc = q(&[("sort", "cost"), ("desc", "1")]);
        assert_eq!(sorted_by("/usage", &by_cost_desc, "", "page", "cost"), "/usage?sort=cost");
        assert_eq!(sorted_by("/usage", &by_cost_desc, "", "page", "key"), "/usage?sort=key");
    }

    #[test]
    fn lists_on_one_page_keep_their_own_order_and_page() {
        let q = q(&[("prices_sort", "price"), ("directory_page", "3"), ("prices_page", "2")]);
        assert_eq!(
            sorted_by("/operator", &q, "directory", "directory_page", "customer"),
            "/operator?prices_sort=price&prices_page=2&directory_sort=customer"
        );
        assert_eq!(Order::of_list(&q, "prices").sort, "price");
        assert_eq!(Order::of_list(&q, "directory"), Order::default());
        assert_eq!(Order::of_query(&q), Order::default());
    }

    #[test]
    fn the_sql_order_is_the_lists_own_expression_then_the_tiebreak() {
        let known = [("customer", "c.customer_name"), ("price", "p.unit_price")];
        let asked = Order { sort: "price".into(), desc: "1".into() };
        assert_eq!(asked.sql(&known, "c.customer_name, p.id", "p.id"), "p.unit_price desc nulls last, p.id");
        let unknown = Order { sort: "p.id; drop table x".into(), desc: String::new() };
        assert_eq!(unknown.sql(&known, "c.customer_name, p.id", "p.id"), "c.customer_name, p.id");
    }

    #[test]
    fn only_a_column_the_list_knows_is_read() {
        let known = [("cost", 1), ("key", 2)];
        assert_eq!(Order { sort: "cost".into(), desc: "1".into() }.column(&known), Some(1));
        assert_eq!(Order { sort: "1; drop table bills".into(), desc: String::new() }.column(&known), None);
    }
}
