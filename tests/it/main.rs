//! The integration tests, in one binary (faster to build than many).

mod abuse;
mod api;
mod browser;
mod calls;
mod camunda8;
mod chaos;
mod common;
mod connectors;
mod corpus;
mod decisions;
mod dmn;
mod el;
mod engine;
mod engine_rest;
mod engine_rest_instances;
mod expressions;
mod fuzz;
mod jobs;
mod model_parse;
mod model_xml;
mod policy;
mod runner;
mod startup;
mod storage;
mod svg;
mod web;
