"""Small programs the benchmarks start as servers."""
