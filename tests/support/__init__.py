"""Test helpers: throwaway databases, and real local servers in place of remote container."""
