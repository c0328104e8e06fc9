"""Typed clients of the services' internal APIs. They speak HTTP only: a client never touches
a database session; what a caller does with an answer (a saga's compensation) is its own."""
