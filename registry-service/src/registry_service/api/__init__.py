"""The API families registry-service serves: REST (document 000) and the Omikron WebSocket
protocol (document 001), a package each."""
