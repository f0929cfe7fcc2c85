//! `bookwish-hooks`: receives Clerk's webhooks and keeps the server's data in step with Clerk.
//!
//! Clerk sends user events through Svix, each signed with the endpoint's secret (`whsec_…`):
//!
//! - `user.created` / `user.updated` → the user's `profiles` row (primary e-mail, name, image
//!   URL), never overwritten by an event older than the one stored;
//! - `user.deleted` → every row of the user on the server, in one transaction, and their
//!   still-valid tokens refused from then on;
//! - anything else → acknowledged and ignored.
//!
//! Layers, outside in:
//!
//! - [`server`]: axum routes. Size cap, Svix verification ([`svix::webhooks::Webhook`], one per
//!   configured secret), parsing, then one database call; each failure has its status (table in
//!   the module's guide) and writes nothing.
//! - [`event`]: Clerk's payloads to an [`event::Event`]; pure, unit-tested.
//! - [`store`]: the database as the `bookwish_hooks` role, which may only execute
//!   `app.hooks_upsert_user` and `app.hooks_delete_user` (migrations/0006_hooks.sql). Both are
//!   idempotent by the `svix-id`, recorded in the same transaction as the change.
//! - [`config`]: the environment.
//!
//! Running it, registering the endpoint in Clerk and the database role: docs/backend.md.

pub mod config;
pub mod event;
pub mod server;
pub mod store;

pub use config::{Config, ConfigError};
pub use server::{Hooks, HEALTH_PATH, WEBHOOK_PATH};
pub use store::{Store, StoreError};
