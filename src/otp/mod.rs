//! otp (being written)
