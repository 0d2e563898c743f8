import AstroPileCLI
import Foundation

exit(AstroPileCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
