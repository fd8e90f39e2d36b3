module github.com/idwatch/idwatch

go 1.26

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
)

require golang.org/x/text v0.14.0 // indirect
