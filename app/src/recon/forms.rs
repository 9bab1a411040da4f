//! The reconciliation page's routes, written once.
use crate::web::Route;

/// A month's reconciliation (`?period=YYYY-MM`; default: the month imported last).
pub const RECON_PAGE: Route = Route("/reconciliation");
/// Imports Microsoft's file (multipart, the file in `web::form::FILE_FIELD`).
pub const IMPORT_RECON: Route = Route("/reconciliation/import");
/// The month's differences as CSV (`?partner=` for operators).
pub const EXPORT_RECON: Route = Route("/exports/reconciliation/{period}");

/// The largest reconciliation file the page takes: a month of Partner Center's daily rated usage, all services, of a
/// large partner (the Azure Stack Hub lines are kept, the rest only counted).
pub const MAX_RECON_FILE: usize = 256 * 1024 * 1024;
