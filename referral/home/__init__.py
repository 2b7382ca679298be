"""Each role's landing page (what needs me now) and the health check."""
