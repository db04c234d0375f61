//! The HTML report (`watch3232 report`): a model built from the event stream, then rendered as
//! one self-contained HTML file (`html.rs`: inline CSS and SVG, no script, nothing fetched).
//!
//! The model reads events in their EVE form (`serde_json::Value`), so the events of a capture
//! run now and an EVE file written earlier give the same report. Every list is bounded: past
//! its cap an item is counted, not kept.

mod html;
pub mod model;

pub use html::render;
pub use model::Report;
