//! Routes written once: the axum router registers [`Route::pattern`], and the page's form takes its action from
//! [`Route::at`], so a path changed in one place changes in both.

/// An axum path pattern such as `/stacks/{cloud_id}/rename`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route(pub &'static str);

impl Route {
    /// The pattern for the router.
    pub const fn pattern(self) -> &'static str {
        self.0
    }

    /// The concrete path: each `{…}` segment replaced, in order, by one of `args`. A missing argument leaves the
    /// segment empty, which no route matches (a mistake shows up as a 404 in the tests, not a wrong write).
    pub fn at(self, args: &[&(dyn std::fmt::Display + Sync)]) -> String {
        let mut out = String::with_capacity(self.0.len() + 40);
        let mut args = args.iter();
        for (i, segment) in self.0.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if segment.starts_with('{') && segment.ends_with('}') {
                if let Some(a) = args.next() {
                    out.push_str(&a.to_string());
                }
            } else {
                out.push_str(segment);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn segments_are_filled_in_order() {
        let r = Route("/bills/{period}/{subscription}/markup");
        assert_eq!(r.at(&[&"2026-10", &7]), "/bills/2026-10/7/markup");
        assert_eq!(Route("/stacks").at(&[]), "/stacks");
    }
}
