print("swiftvmx-dev")
