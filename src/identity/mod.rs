//! identity (being written)
