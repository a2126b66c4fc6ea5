"""Sorting and order statistics: sort, topk, median, quantile, unique, searchsorted, histograms."""
__all__ = []
