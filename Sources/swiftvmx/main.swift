print("swiftvmx")
