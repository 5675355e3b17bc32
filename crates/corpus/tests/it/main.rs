//! Integration tests of the corpus generator: the committed scenario
//! fixtures are what the generator writes and replay as labelled, and
//! background traffic replays and is deterministic.

mod background;
mod protocols;
mod scenarios;
