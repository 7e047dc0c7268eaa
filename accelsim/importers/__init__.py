"""Readers that turn other tools' files into accelsim workloads and hardware."""
