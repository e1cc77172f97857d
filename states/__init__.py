# One module per state: enter(ctx, t_ms), optional exit(ctx, t_ms) and tick(ctx, t_ms).
# The state machine calls them; nothing else does.
