// Header-only target: see include/CArrowData.h.
