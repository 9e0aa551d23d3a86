//! Pure engine tests: given a diagram, when these commands, then these events.

mod ad_hoc;
mod boundary;
mod compensation;
mod el;
mod errors;
mod event_subs;
mod events;
mod gateways;
mod javascript;
mod listeners;
mod multi;
mod operate;
mod props;
mod signals;
mod tasks;
mod zeebe;
