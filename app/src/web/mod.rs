//! The web layer every feature's writes share: typed routes and forms (both targets), the flash shown after a post,
//! and — on the server — the one caller extractor and the one error policy (see the README's "Architecture").
pub mod flash;
pub mod form;
pub mod route;

#[cfg(feature = "ssr")]
pub mod caller;
#[cfg(feature = "ssr")]
pub mod confirm;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod respond;

pub use flash::{Flash, FormId};
pub use route::Route;
