//! Paging through a listing of the usage API: by `nextLink` (what Azure's own API returns; only links to the configured
//! endpoint are followed) or by a top-level `continuationToken` (what the Azure Stack docs describe).
use serde::Deserialize;
use url::Url;

use super::client::{CollectError, UsageApi};

/// Pages one pager fetches at most, so a server that pages in circles cannot keep a run going forever.
pub const MAX_PAGES: usize = 10_000;

/// Pages of one listing, fetched one at a time.
pub struct Pager<'a> {
    api: &'a UsageApi,
    name: &'static str,
    first: Url,
    /// The next page's URL, `None` when done; an error is kept so that later calls repeat it rather than end quietly.
    next: Result<Option<Url>, CollectError>,
    pub(super) pages: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Links {
    next_link: Option<String>,
    continuation_token: Option<String>,
}

impl<'a> Pager<'a> {
    pub(super) fn new(api: &'a UsageApi, name: &'static str, first: Result<Url, String>) -> Self {
        let (first, next) = match first {
            Ok(url) => (url.clone(), Ok(Some(url))),
            Err(detail) => (api.endpoint.clone(), Err(CollectError::BadRequest { api: name, detail })),
        };
        Self { api, name, first, next, pages: 0 }
    }

    /// The next page's raw JSON body (for `app::usage::parse::parse_page`), or `None` when done. After an error,
    /// every later call returns it again.
    pub async fn next(&mut self) -> Result<Option<String>, CollectError> {
        let url = match &self.next {
            Ok(Some(url)) => url.clone(),
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.clone()),
        };
        if self.pages >= MAX_PAGES {
            self.next = Err(CollectError::TooManyPages { api: self.name });
            return Err(CollectError::TooManyPages { api: self.name });
        }
        tracing::debug!(api = self.name, %url, page = self.pages + 1, "fetching");
        match self.api.get(self.name, &url).await {
            Ok(body) => {
                self.pages += 1;
                // A refused link still lets this page through: it came from the configured endpoint.
                self.next = self.follow(&body);
                Ok(Some(body))
            }
            Err(e) => {
                self.next = Err(e.clone());
                Err(e)
            }
        }
    }

    fn follow(&self, body: &str) -> Result<Option<Url>, CollectError> {
        let bad = |e: serde_json::Error| CollectError::BadBody {
            api: self.name,
            detail: format!("not a JSON object (line {}, column {})", e.line(), e.column()),
        };
        let links: Links = serde_json::from_str(body).map_err(bad)?;
        if let Some(link) = links.next_link.filter(|l| !l.is_empty()) {
            let endpoint = &self.api.endpoint;
            let foreign = || CollectError::ForeignLink { api: self.name, endpoint: endpoint.to_string() };
            let url = endpoint.join(&link).map_err(|_| foreign())?;
            return if url.origin() == endpoint.origin() { Ok(Some(url)) } else { Err(foreign()) };
        }
        Ok(links.continuation_token.filter(|t| !t.is_empty()).map(|token| {
            let mut url = self.first.clone();
            url.query_pairs_mut().append_pair("continuationToken", &token);
            url
        }))
    }
}
