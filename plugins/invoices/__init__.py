"""GST tax invoices: `gst` computes the taxes, `words` writes amounts as Indian invoices do,
`document` holds what an invoice shows and `pdf` renders it (Latin, ₹ and Devanagari)."""
