"""The repository-level tests (end-to-end, contracts, infra, tools). A regular package, so that
``tests.e2e`` resolves here and not to a ``tests`` package some wheel installs into site-packages
(py_vollib 1.0.1 does).
"""
