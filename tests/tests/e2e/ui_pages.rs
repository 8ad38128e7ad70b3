//! Browser tests: see tests/ui/. (Filled in by its part of issue 16.)
