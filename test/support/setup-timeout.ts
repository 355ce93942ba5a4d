// Integration tests wait for real processes and databases; each waits by polling with its own
// deadline, so this only bounds a test that hangs.
jest.setTimeout(600_000);
