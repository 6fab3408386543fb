"""The gateway's HTTP routes, one router per channel or feature; bot.app assembles them."""
