//! The `/api/v1` handlers, one module per group of resources.

pub mod admin;
pub mod contacts;
pub mod incidents;
pub mod policies;
pub mod schedules;
