//! Pure engine tests: given a diagram, when these commands, then these events.

mod boundary;
mod errors;
mod events;
mod gateways;
mod props;
mod tasks;
