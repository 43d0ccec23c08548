"""What mail providers and bounce mail say about messages already sent: deliveries, deferrals,
bounces, complaints and opt-outs from ESP webhooks and the bounce mailbox, in one event model."""
