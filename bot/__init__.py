"""One conversation for every channel; no HTTP, no XML, no Flask."""
