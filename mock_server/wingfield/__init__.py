"""The Wingfield Partner API: its models, rules, handlers, store and token gate."""
