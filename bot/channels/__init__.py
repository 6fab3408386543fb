"""The channels patients use: each module is one Channel (bot.channels.base) that
authenticates and parses its inbound messages, splits and sends replies and answers its own
control words. bot.channels.registry.build_channels assembles the configured ones."""
