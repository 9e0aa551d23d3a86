//! The integration tests, in one binary (faster to build than many).

mod common;
mod engine;
mod expressions;
mod model_parse;
mod model_xml;
mod corpus;
mod runner;
mod storage;
