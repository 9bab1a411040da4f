//! Attacks on a running portal (issue 9), one file per attack, each performing it against the real router and
//! asserting that it fails.
mod collector_as_a_port_scanner;
mod crossing_the_partner_boundary;
mod formulas_in_csv_exports;
mod injected_inline_scripts;
mod open_redirect_after_sign_in;
mod probing_other_partners_through_refusals;
mod reflected_script_in_error_pages;
mod sessions_that_never_end;
mod slow_uploads_starving_page_views;
mod unauthenticated_work;
mod unbounded_lists;
