"""Tests of the demo website generator and server."""
