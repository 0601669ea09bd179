"""The agent model: the Mesa model, its engines, the firm agents, their array state and the recorder."""
