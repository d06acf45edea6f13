"""Lead exchange: request forms, routing to partner specialists, deadlines, pay per lead."""
