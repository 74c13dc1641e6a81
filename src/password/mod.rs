//! password (being written)
