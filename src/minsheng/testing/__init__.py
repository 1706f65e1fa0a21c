"""Support for the tests and benchmarks (tests/, bench/): nothing the service imports (an import-linter
contract in pyproject.toml keeps it so). It lives in the package because both tests/ and bench/ import it,
and the installed package is the one place both reach without changing sys.path."""
